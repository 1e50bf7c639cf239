"""Tickets from partners through the API."""

from feedback.models import Ticket


def test_a_partner_opens_a_ticket_once_per_external_id(api, partner, member):
    body = {"member": member.number, "subject": "Missing points", "body": "No points for ORD-1", "external_id": "C-1"}
    first = api.post("/api/v1/tickets", body, format="json")
    assert first.status_code == 201, first.content
    again = api.post("/api/v1/tickets", body, format="json")
    assert again.json()["id"] == first.json()["id"]
    ticket = Ticket.objects.get()
    assert (ticket.partner, ticket.channel, ticket.category) == (partner, "api", "complaint")


def test_tickets_for_members_of_another_program_look_missing(api, foreign_member):
    body = {"member": foreign_member.number, "subject": "x", "body": "y"}
    assert api.post("/api/v1/tickets", body, format="json").status_code == 404
    assert not Ticket.objects.exists()


def test_a_ticket_needs_subject_and_body(api, member):
    response = api.post("/api/v1/tickets", {"member": member.number, "subject": " ", "body": ""}, format="json")
    assert response.status_code == 400
    assert {"body"} <= set(response.json()["error"]["fields"])
