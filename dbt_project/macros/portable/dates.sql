{#- Day arithmetic and calendars that DuckDB and Spark spell differently.
    Each has a DuckDB form (default__) and a Spark form (spark__); results are
    equal on both (`make spark-parity` compares every relation). -#}

{#- Every day from first_day to last_day (both included), as a table with one
    column, `day`, to join laterally: `from bounds, {{ day_series(...) }} as t(day)`. -#}
{% macro day_series(first_day, last_day) %}{{ return(adapter.dispatch('day_series', 'socialmart')(first_day, last_day)) }}{% endmacro %}
{% macro default__day_series(first_day, last_day) %}range({{ first_day }}, {{ last_day }} + interval 1 day, interval 1 day){% endmacro %}
{% macro spark__day_series(first_day, last_day) %}lateral (select explode(sequence({{ first_day }}, {{ last_day }}, interval 1 day))){% endmacro %}

{#- The same days as a set-returning select-list expression: one row per
    day, typed DATE (Spark allows no expression around the generator). -#}
{% macro unnest_days(first_day, last_day) %}{{ return(adapter.dispatch('unnest_days', 'socialmart')(first_day, last_day)) }}{% endmacro %}
{% macro default__unnest_days(first_day, last_day) %}cast(unnest(generate_series({{ first_day }}, {{ last_day }}, interval 1 day)) as date){% endmacro %}
{% macro spark__unnest_days(first_day, last_day) %}explode(sequence({{ first_day }}, {{ last_day }}, interval 1 day)){% endmacro %}

{#- ISO 8601 week-numbering year (the year of the week's Thursday). -#}
{% macro iso_year(day) %}{{ return(adapter.dispatch('iso_year', 'socialmart')(day)) }}{% endmacro %}
{% macro default__iso_year(day) %}isoyear({{ day }}){% endmacro %}
{% macro spark__iso_year(day) %}extract(yearofweek from {{ day }}){% endmacro %}

{#- ISO day of the week: 1 = Monday ... 7 = Sunday. -#}
{% macro iso_day_of_week(day) %}{{ return(adapter.dispatch('iso_day_of_week', 'socialmart')(day)) }}{% endmacro %}
{% macro default__iso_day_of_week(day) %}isodow({{ day }}){% endmacro %}
{% macro spark__iso_day_of_week(day) %}extract(dayofweek_iso from {{ day }}){% endmacro %}

{#- The English day name, in full ("Monday"). Spark's dayname() gives "Mon". -#}
{% macro day_name(day) %}{{ return(adapter.dispatch('day_name', 'socialmart')(day)) }}{% endmacro %}
{% macro default__day_name(day) %}dayname({{ day }}){% endmacro %}
{% macro spark__day_name(day) %}date_format({{ day }}, 'EEEE'){% endmacro %}

{#- The calendar day an instant falls on in an IANA time zone. -#}
{% macro local_date(instant, timezone) %}{{ return(adapter.dispatch('local_date', 'socialmart')(instant, timezone)) }}{% endmacro %}
{% macro default__local_date(instant, timezone) %}cast(({{ instant }} at time zone {{ timezone }}) as date){% endmacro %}
{% macro spark__local_date(instant, timezone) %}cast(convert_timezone(current_timezone(), {{ timezone }}, cast({{ instant }} as timestamp_ntz)) as date){% endmacro %}

{#- The instant of a wall-clock time (a timestamp without zone) in an IANA time zone. -#}
{% macro instant_at(local_timestamp, timezone) %}{{ return(adapter.dispatch('instant_at', 'socialmart')(local_timestamp, timezone)) }}{% endmacro %}
{% macro default__instant_at(local_timestamp, timezone) %}timezone({{ timezone }}, {{ local_timestamp }}){% endmacro %}
{% macro spark__instant_at(local_timestamp, timezone) %}cast(convert_timezone({{ timezone }}, current_timezone(), cast({{ local_timestamp }} as timestamp_ntz)) as timestamp){% endmacro %}
