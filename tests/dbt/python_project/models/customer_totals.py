from snowflake.snowpark.functions import col
from snowflake.snowpark.functions import sum as sum_


def model(dbt, session):
    # packages come from the account's DEFAULT_PYTHON_ARTIFACT_REPOSITORY
    dbt.config(
        materialized="table",
        packages=["snowflake-snowpark-python", "test_whl_package"],
        python_version="3.11",
    )
    import test_whl_package

    orders = dbt.ref("raw_orders")
    totals = orders.group_by("CUSTOMER_ID").agg(sum_(col("AMOUNT")).alias("TOTAL"))
    return totals.with_column_renamed("CUSTOMER_ID", "CUSTOMER").filter(
        col("TOTAL") > 0 if test_whl_package.say_hello() else col("TOTAL") < 0
    )
