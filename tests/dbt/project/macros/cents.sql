{% macro cents(col) %}({{ col }} * 100)::int{% endmacro %}
