from gateway.entrypoints.http.errors import from_rpc_error, validation_details
from portal_contracts.rpc import RpcError


def test_backend_errors_keep_code_status_and_details():
    error = from_rpc_error(RpcError.of("setup_incomplete", "incomplete", missing=["domain"]))
    assert (error.status, error.code, error.details) == (
        409,
        "setup_incomplete",
        {"missing": ["domain"]},
    )


def test_a_backend_status_outside_4xx_5xx_becomes_500():
    for status in (200, 302, 999):
        error = from_rpc_error(RpcError(code="odd", message="odd", status=status))
        assert error.status == 500


def test_validation_details_name_field_paths_without_the_body_prefix():
    details = validation_details(
        [
            {
                "loc": ("body", "visibility", "contact_filters", 0, 1, "value"),
                "msg": "bad",
                "type": "t",
            },
            {"loc": ("query", "limit"), "msg": "too big", "type": "less_than_equal"},
        ]
    )
    assert details == {
        "errors": [
            {"field": "visibility.contact_filters.0.1.value", "message": "bad", "type": "t"},
            {"field": "query.limit", "message": "too big", "type": "less_than_equal"},
        ]
    }
