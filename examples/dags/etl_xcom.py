"""
### ETL with XComs

A classic extract -> transform -> load pipeline. Each step is a TaskFlow task and
passes plain Python dicts/lists to the next one through XComs: no files, no network.
"""
import json

import pendulum

from airflow.sdk import dag, task

RAW_ORDERS = """
[
  {"order_id": 1001, "customer": "ada", "amount": 120.5, "currency": "EUR"},
  {"order_id": 1002, "customer": "grace", "amount": 75.0, "currency": "USD"},
  {"order_id": 1003, "customer": "ada", "amount": 42.25, "currency": "EUR"},
  {"order_id": 1004, "customer": "linus", "amount": 310.0, "currency": "GBP"}
]
"""
FX_TO_EUR = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "etl"],
    default_args={"retries": 1, "retry_delay": pendulum.duration(seconds=10)},
)
def etl_xcom():
    @task
    def extract() -> list:
        orders = json.loads(RAW_ORDERS)
        print(f"Extracted {len(orders)} orders")
        return orders

    @task(multiple_outputs=True)
    def transform(orders: list) -> dict:
        totals = {}
        for o in orders:
            eur = round(o["amount"] * FX_TO_EUR[o["currency"]], 2)
            totals[o["customer"]] = round(totals.get(o["customer"], 0.0) + eur, 2)
            print(f"order {o['order_id']}: {o['amount']} {o['currency']} -> {eur} EUR")
        grand_total = round(sum(totals.values()), 2)
        print(f"Totals per customer: {totals}; grand total {grand_total} EUR")
        return {"per_customer": totals, "grand_total": grand_total}

    @task
    def load(per_customer: dict, grand_total: float) -> None:
        print("customer   total (EUR)")
        for customer, total in sorted(per_customer.items(), key=lambda kv: -kv[1]):
            print(f"{customer:<10} {total:>10.2f}")
        print(f"{'TOTAL':<10} {grand_total:>10.2f}")

    summary = transform(extract())
    load(summary["per_customer"], summary["grand_total"])


etl_xcom()
