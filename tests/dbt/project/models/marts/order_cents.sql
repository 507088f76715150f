select order_id, {{ cents('amount') }} as cents from {{ ref('stg_orders') }}
