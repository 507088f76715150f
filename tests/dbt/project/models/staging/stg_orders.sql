select id as order_id, customer_id, amount, ordered_at, updated_at from {{ ref('orders') }}
