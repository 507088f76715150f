with o as (select * from {{ ref('stg_orders') }})
select c.customer_id, c.name, count(o.order_id) as orders, sum(o.amount) as total,
       rank() over (order by sum(o.amount) desc) as spend_rank
from {{ ref('stg_customers') }} c left join o on o.customer_id = c.customer_id
group by c.customer_id, c.name
