"""Field types check what they hold: emails, web addresses, users, number scales."""

from __future__ import annotations

from support import Api

CONTACT = """
kind: object
name: Contact
access: read_write
fields:
  - {name: Name, type: text, required: true}
  - {name: Email, type: email}
  - {name: Site, type: url}
  - {name: Manager, type: user}
  - {name: Discount, type: number, scale: 2}
  - {name: Active, type: checkbox, default: true}
"""


def test_field_types_refuse_what_they_cannot_hold(admin_api: Api) -> None:
    assert admin_api.deploy(CONTACT).status_code == 201
    made = admin_api.post("/api/records/Contact", json={
        "Name": "Ann", "Email": "ann@example.com", "Site": "https://example.com/ann",
        "Manager": "bob", "Discount": "12.345"})  # fmt: skip
    assert made.status_code == 201, made.json
    assert (made.json["Discount"], made.json["Active"]) == (12.35, True)  # rounded to scale
    bad = admin_api.post("/api/records/Contact", json={
        "Name": "Zed", "Email": "zed-at-example", "Site": "ftp//x", "Manager": "nobody",
        "Discount": "lots"})  # fmt: skip
    assert bad.status_code == 400
    details = bad.json["error"]["details"]
    assert set(details) == {"Email", "Site", "Manager", "Discount"}
    assert "email address" in details["Email"] and "web address" in details["Site"]
    assert "no user named 'nobody'" in details["Manager"]
    assert admin_api.get("/api/records/Contact").json["items"] == [made.json]
    blank = admin_api.patch(f"/api/records/Contact/{made.json['Id']}", json={"Email": ""})
    assert blank.status_code == 200 and blank.json["Email"] is None
