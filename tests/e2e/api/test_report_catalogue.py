"""The reports of the catalogue over HTTP on a small known history (bought in January, shipped in February,
invoiced and collected in March 2024): figures to the cent, comparisons, ageing at dates, who may read them,
and bad input as 422 naming what to give."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.e2e.api.conftest import V1, Api
from tests.e2e.api.test_reports import _history


def _lines(report: dict[str, Any]) -> dict[str, tuple[Decimal, ...]]:
    return {ln["code"]: tuple(Decimal(ln[k]) for k in ("amount", "previous", "change") if ln.get(k) is not None)
            for ln in report["lines"]}


def _money(values: dict[str, str]) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in values.items()}


def test_profit_and_loss_of_a_month_against_the_month_before(api: Api) -> None:
    _history(api)
    feb = api.ok(api.get("/reports/profit-and-loss", role="finance", period="2024-02"))
    assert _money(feb["totals"]) == {"income": 0, "expense": Decimal("24.00"), "result": Decimal("-24.00")}
    march = api.ok(api.get("/reports/profit-and-loss", role="finance", period="2024-03", compare="true"))
    assert _lines(march) == {"4000": (Decimal(40), Decimal(0), Decimal(40)),
                             "5000": (Decimal(0), Decimal(24), Decimal(-24))}
    assert march["previous_totals"] == feb["totals"]
    assert (march["previous_from"], march["previous_to"]) == ("2024-02-01", "2024-02-29")
    quarter = api.ok(api.get("/reports/profit-and-loss", role="finance", date_from="2024-01-01",
                             date_to="2024-03-31"))
    assert _money(quarter["totals"]) == {"income": Decimal(40), "expense": Decimal(24), "result": Decimal(16)}


def test_balance_sheet_balances_with_the_result_of_the_year(api: Api) -> None:
    _history(api)
    bs = api.ok(api.get("/reports/balance-sheet", role="viewer", period="2024-03", compare="true"))
    assert _money(bs["totals"]) == {"assets": Decimal(96), "liabilities": Decimal(80), "equity": 0,
                                    "result": Decimal(16), "liabilities_equity_and_result": Decimal(96)}
    # end of February: inventory 36 + input VAT 12 = payables 72 + the cost of the goods shipped, -24
    assert _money(bs["previous_totals"]) == {"assets": Decimal(48), "liabilities": Decimal(72), "equity": 0,
                                             "result": Decimal(-24), "liabilities_equity_and_result": Decimal(48)}
    assert _lines(bs)["1000"] == (Decimal(48), Decimal(0), Decimal(48))  # bank: collected in March
    assert "1100" not in _lines(bs)  # receivables: nothing open at either date
    assert bs["date_to"] == "2024-03-31" and bs["previous_date"] == "2024-02-29"


def test_ageing_at_a_date_in_configurable_buckets(api: Api) -> None:
    w = _history(api)
    ar = api.ok(api.get("/reports/ar-ageing", role="finance", as_of="2024-03-10", buckets="15,45"))
    assert ar["bucket_labels"] == ["current", "1-15", "16-45", "over 45"]
    [row] = ar["rows"]
    assert row["party_id"] == w["customer_id"] and Decimal(row["total"]) == Decimal(48) == Decimal(ar["total"])
    [item] = ar["items"]
    assert item["document_date"] == "2024-03-01" and item["bucket"] == "current"
    paid = api.ok(api.get("/reports/ar-ageing", role="finance", as_of="2024-03-20"))
    assert paid["rows"] == [] and Decimal(paid["total"]) == 0
    ap = api.ok(api.get("/reports/ap-ageing", role="finance", as_of="2024-12-31"))
    [row] = ap["rows"]
    assert row["party_id"] == w["supplier_id"] and Decimal(ap["total"]) == Decimal(72)  # 60 + 20% VAT, unpaid
    assert Decimal(ap["bucket_totals"][-1]) == Decimal(72) and ap["bucket_labels"][-1] == "over 90"
    before = api.ok(api.get("/reports/ap-ageing", role="finance", as_of="2024-01-11"))
    assert before["rows"] == []  # received but not yet invoiced: GRNI, not payables


def test_sales_by_month_and_customer(api: Api) -> None:
    w = _history(api)
    sales = api.ok(api.get("/reports/sales", role="finance", date_from="2024-01-01", date_to="2024-03-31"))
    [row] = sales["rows"]
    assert (row["month"], row["customer_id"], row["net_sales"]) == ("2024-03", w["customer_id"], "40.00")
    assert sales["months"] == [{"month": "2024-03", "net_sales": "40.00"}] and sales["total"] == "40.00"
    assert api.ok(api.get("/reports/sales", role="finance", period="2024-02"))["rows"] == []


def test_who_may_read_reports(api: Api) -> None:
    assert api.get("/reports/balance-sheet", role=None).status_code == 401
    assert api.get("/reports/balance-sheet", role="sales").status_code == 403
    assert api.get("/reports/ar-ageing", role="warehouse").status_code == 403
    assert api.get("/reports/stock-valuation", role="warehouse").status_code == 200
    for name in ("trial-balance", "balance-sheet", "profit-and-loss", "ar-ageing", "ap-ageing", "sales"):
        assert api.get(f"/reports/{name}", role="finance").status_code == 200, name


def test_bad_input_is_422_naming_what_to_give(api: Api) -> None:
    cases = [("/reports/balance-sheet", {"period": "2024-13"}, "not a month written YYYY-MM"),
             ("/reports/profit-and-loss", {"period": "2024-02", "date_from": "2024-01-01"}, "not both"),
             ("/reports/trial-balance", {"date_from": "2024-01-01"}, "needs both ends"),
             ("/reports/ar-ageing", {"buckets": "60,30"}, "must rise"),
             ("/reports/ap-ageing", {"buckets": "x"}, "whole numbers"),
             ("/reports/balance-sheet", {"buckets": "30"}, "balance-sheet takes no ageing buckets"),
             ("/reports/sales", {"compare": "true"}, "sales takes no comparison")]
    for path, params, says in cases:
        response = api.get(path, role="finance", **params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["code"] == "invalid_input" and says in response.json()["detail"], response.text
    garbage = api.get("/reports/sales", role="finance", date_from="yesterday", date_to="2024-01-01")
    assert garbage.status_code == 422 and garbage.json()["code"] == "request_invalid"


def test_openapi_publishes_only_the_parameters_each_report_takes(api: Api) -> None:
    paths = api.client.get(V1 + "/openapi.json").json()["paths"]

    def parameters(name: str) -> set[str]:
        return {p["name"] for p in paths[f"{V1}/reports/{name}"]["get"]["parameters"]}

    assert parameters("balance-sheet") == {"period", "date_from", "date_to", "compare"}
    assert parameters("ar-ageing") == {"as_of", "buckets"}
    assert parameters("stock-valuation") == {"warehouse_id"}
    assert parameters("sales") == {"period", "date_from", "date_to"}
    schema = paths[f"{V1}/reports/ar-ageing"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/Ageing")
