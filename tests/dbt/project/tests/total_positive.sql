select * from {{ ref('customer_orders') }} where total < 0
