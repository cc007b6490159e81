import pytest
from gateway.domain.support_form import FormClosed, FormRefused, check_new_ticket
from portal_contracts.portal import SupportForm

FORM = SupportForm.model_validate(
    {
        "enabled": True,
        "fields": [
            {
                "name": "product",
                "label": "Product",
                "type": "select",
                "options": ["A", "B"],
                "required": True,
            },
            {"name": "reply_to", "label": "Reply to", "type": "email"},
            {"name": "notes", "label": "Notes", "type": "textarea"},
        ],
    }
)


def problems(**kwargs):
    args = {"subject": "Help", "description": "It broke", "fields": {"product": "A"}} | kwargs
    with pytest.raises(FormRefused) as caught:
        check_new_ticket(FORM, args["subject"], args["description"], args["fields"])
    return {(p.field, p.type) for p in caught.value.problems}


def test_a_valid_ticket_keeps_text_as_typed_and_fields_as_properties():
    draft = check_new_ticket(
        FORM, "  <b>Help</b> ", "<script>x</script>", {"product": "B", "reply_to": "a@b.co"}
    )
    assert draft.subject == "<b>Help</b>"
    assert draft.description == "<script>x</script>"
    assert draft.properties == {"product": "B", "reply_to": "a@b.co"}


def test_every_problem_is_named():
    assert problems(fields={"colour": "red"}) == {
        ("fields.colour", "extra"),
        ("fields.product", "missing"),
    }
    assert problems(fields={"product": "C"}) == {("fields.product", "enum")}
    assert problems(fields={"product": "A", "reply_to": "nope"}) == {("fields.reply_to", "email")}
    assert problems(fields={"product": "A", "notes": 5}) == {("fields.notes", "string_type")}
    assert problems(fields={"product": "A", "notes": "x" * 10_001}) == {
        ("fields.notes", "string_too_long")
    }
    assert problems(subject="  ", description="") == {
        ("subject", "missing"),
        ("description", "missing"),
    }
    assert problems(subject="x" * 201) == {("subject", "string_too_long")}
    assert problems(fields=["product"]) == {("fields", "dict_type"), ("fields.product", "missing")}


def test_a_disabled_form_takes_no_tickets():
    closed = SupportForm(enabled=False)
    with pytest.raises(FormClosed):
        check_new_ticket(closed, "Help", "Broken", None)
