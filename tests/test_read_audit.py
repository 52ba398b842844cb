"""Reads of a member's sensitive fields by anyone but the member are logged
(issue 9.5): who read whose health info, goals or coach notes, and when."""

from __future__ import annotations

from world import World


def sensitive_reads(world: World) -> list[tuple[str, str, list[str]]]:
    return [
        (e.actor_id, e.entity_id, e.details["fields"])
        for e in world.sys.audit.list(limit=500)
        if e.action == "member.sensitive_read"
    ]


def test_coach_and_admin_reads_of_health_info_are_logged(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    admin = world.admin()
    world.core.acting_as(member.id).members.update(member.id, health_info="asthma", goals="run")
    world.core.acting_as(member.id).members.get(member.id)  # their own: not logged
    assert sensitive_reads(world) == []
    world.core.acting_as(coach.id).members.get(member.id)
    world.advance(minutes=1)
    world.core.acting_as(admin.id).members.list()
    logged = sensitive_reads(world)
    assert (coach.id, member.id, ["health_info", "goals"]) in logged
    assert (admin.id, member.id, ["health_info", "goals"]) in logged
    assert len(logged) == 2


def test_reading_a_profile_without_sensitive_fields_logs_nothing(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.core.acting_as(coach.id).members.get(member.id)
    world.core.acting_as(coach.id).members.list()
    assert sensitive_reads(world) == []


def test_an_admin_export_of_a_member_is_logged_as_a_sensitive_read(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    admin = world.admin()
    world.core.acting_as(member.id).members.update(member.id, health_info="asthma")
    world.core.acting_as(member.id).privacy.export()
    assert sensitive_reads(world) == []
    world.core.acting_as(admin.id).privacy.export(member.id)
    assert sensitive_reads(world) == [(admin.id, member.id, ["health_info"])]


def test_reads_of_a_members_documents_by_others_are_logged(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    document = world.core.acting_as(member.id).documents.upload(
        title="Scan", filename="scan.txt", content=b"results", member_id=member.id
    )
    as_member, as_coach = world.core.acting_as(member.id), world.core.acting_as(coach.id)
    as_member.documents.get(document.id)  # the member's own reads are not logged
    as_member.documents.content(document.id)
    as_coach.documents.get(document.id)
    as_coach.documents.content(document.id)
    as_coach.documents.list(member_id=member.id)
    reads = [
        (e.actor_id, e.details["fields"], e.details["document_id"])
        for e in world.sys.audit.list(entity_id=member.id)
        if e.action == "member.sensitive_read"
    ]
    assert sorted(reads) == sorted(
        [
            (coach.id, ["extracted_text"], document.id),
            (coach.id, ["content"], document.id),
            (coach.id, ["extracted_text"], document.id),
        ]
    )
