"""answer(): every municipality x topic gives a sourced or an honest not-stated answer."""

from __future__ import annotations

import pytest

from traeningsguide.answers import GuideInputError, answer, compare, contact_answer
from traeningsguide.knowledge import KnowledgeBase
from traeningsguide.textnorm import phone_digits, phones_in

MUNICIPALITIES = ["roskilde", "hedensted", "holbaek", "roedovre", "koege"]


def _cases(kb: KnowledgeBase) -> list[tuple[str, str, str | None]]:
    cases = []
    for mid, m in kb.municipalities.items():
        for topic in kb.topics:
            cases.append((mid, topic, None))
            cases.extend((mid, topic, sid) for sid in m.services)
    return cases


def test_every_municipality_topic_and_service_gets_a_sourced_or_not_stated_answer(kb: KnowledgeBase) -> None:
    cases = _cases(kb)
    assert len(cases) == 19 * (3 + 5 + 2 + 3 + 4)  # 19 topics; 5 municipalities with 2/4/1/2/3 services
    for mid, topic, service in cases:
        m = kb.municipalities[mid]
        result = answer(mid, topic, service, kb=kb)
        rendered = result.render()
        assert result.text.strip(), (mid, topic, service)
        assert result.source == f"Kilde: {m.source_title}"
        assert result.next_step.contact.name in result.next_step.text
        if topic == "contact":
            continue
        for part in result.parts:
            if part.stated:
                assert all(f.quote and f.topic == topic for f in part.facts)
                assert all(set(part.service_ids) <= set(f.services) for f in part.facts)
            else:
                assert part.not_stated is not None, (mid, topic, service, part.service_ids)
                assert part.text.startswith(f"{m.source_title} oplyser ikke {kb.topics[topic].missing}.")
                # the next step names whom the file says to ask about this part
                ask = m.contacts[part.not_stated.ask]
                assert ask.name in result.next_step.text, (mid, topic, service)
        if not result.stated:
            assert f"{m.source_title} oplyser ikke {kb.topics[topic].missing}." in rendered


def test_no_answer_contains_another_municipalitys_phone_number(kb: KnowledgeBase) -> None:
    own = {mid: {c.phone for c in m.contacts.values() if c.phone} for mid, m in kb.municipalities.items()}
    all_phones = set().union(*own.values())
    assert len(all_phones) == 5  # Hedensted 1, Rødovre 1, Køge 3
    for mid, topic, service in _cases(kb):
        rendered = answer(mid, topic, service, kb=kb).render()
        digits = phone_digits(rendered)
        for phone in all_phones - own[mid]:
            assert phone not in digits, (mid, topic, service, phone)
        assert phones_in(rendered) <= own[mid]


@pytest.mark.parametrize("mid", ["roskilde", "holbaek"])
def test_municipalities_without_a_phone_number_say_so(kb: KnowledgeBase, mid: str) -> None:
    result = contact_answer(mid, kb=kb)
    assert not any(c.phone for c in kb.municipalities[mid].contacts.values())
    assert "Telefonnummer: ikke oplyst i kilden" in result.text
    assert "oplyser intet telefonnummer" in answer(mid, "cost", kb=kb).next_step.text
    assert phones_in(result.render()) == set()


class TestKoege:
    def test_transport_differs_between_after_hospital_and_visiteret(self, kb: KnowledgeBase) -> None:
        after = answer("koege", "transport", "after_hospital", kb=kb)
        assessed = answer("koege", "transport", "assessed", kb=kb)
        assert "bevilget kørsel" in after.text and "selv betale" not in after.text
        assert "selv betale" in assessed.text and "gældende takst" in assessed.text

    def test_transport_without_service_answers_each_and_asks_the_deciding_question(self, kb: KnowledgeBase) -> None:
        result = answer("koege", "transport", kb=kb)
        assert len(result.parts) == 3
        assert result.deciding_question == "Har du fået en genoptræningsplan fra sygehuset?"
        assert result.text.startswith("Kommunen har flere slags træning. Sådan er det for hver af dem:")
        assert result.text.endswith("Er du i tvivl om, hvilken du hører under? "
                                    "Har du fået en genoptræningsplan fra sygehuset?")
        assert "Genoptræning efter sygehusophold" in result.text

    def test_start_deadlines_keep_calendar_days_and_working_days_apart(self, kb: KnowledgeBase) -> None:
        assert "7 kalenderdage" in answer("koege", "response_time", "efter sygehus", kb=kb).text
        assert "10 hverdage" in answer("koege", "response_time", "vedligeholdelsestræning", kb=kb).text

    def test_cancellation_gives_the_cancellation_number(self, kb: KnowledgeBase) -> None:
        result = answer("koege", "cancellation", "after_hospital", kb=kb)
        assert "56 56 56 49" in result.next_step.text
        assert "2 gange" in result.text or "2 aftaler" in result.text

    def test_work_rehab_points_to_the_jobcenter(self, kb: KnowledgeBase) -> None:
        result = answer("koege", "frequency", "jobcenter", kb=kb)
        assert "8 uger" in result.text
        assert "56 67 66 80" in result.next_step.text

    def test_visitation_number(self, kb: KnowledgeBase) -> None:
        assert "56 67 26 26" in answer("koege", "application", "assessed", kb=kb).next_step.text

    def test_nutrition_offer(self, kb: KnowledgeBase) -> None:
        assert "ernæring" in answer("koege", "special_offers", "after_hospital", kb=kb).text

    def test_a_service_koege_does_not_describe(self, kb: KnowledgeBase) -> None:
        result = answer("koege", "cost", "børnetræning", kb=kb)
        assert result.parts == () and "beskriver ikke træning af børn" in result.text


class TestHedensted:
    def test_four_services_all_free(self, kb: KnowledgeBase) -> None:
        result = answer("hedensted", "cost", kb=kb)
        covered = {s for p in result.parts for s in p.service_ids}
        assert covered == {"maintenance", "rehab", "after_hospital", "children"}
        assert all("gratis" in p.text for p in result.parts)

    def test_frequencies_per_service(self, kb: KnowledgeBase) -> None:
        assert "8-12 uger" in answer("hedensted", "frequency", "maintenance", kb=kb).text
        after = answer("hedensted", "frequency", "after_hospital", kb=kb).text
        assert "1-2 gange om ugen" in after and "10 træningsgange" in after
        assert "3 måneder" in answer("hedensted", "frequency", "children", kb=kb).text

    def test_response_times(self, kb: KnowledgeBase) -> None:
        assert "7 dage" in answer("hedensted", "response_time", "after_hospital", kb=kb).text
        assert "14 dage" in answer("hedensted", "response_time", "maintenance", kb=kb).text

    def test_seven_day_rule_and_free_choice(self, kb: KnowledgeBase) -> None:
        # the right to choose a KL provider when the start is later than 7 days: a start-time fact (HED-1)
        text = answer("hedensted", "response_time", "after_hospital", kb=kb).text
        assert "7 dage" in text and "KL" in text and "har du ret til at vælge" in text

    def test_transport_after_hospital_names_the_transport_office(self, kb: KnowledgeBase) -> None:
        result = answer("hedensted", "transport", "after_hospital", kb=kb)
        assert "kørselskontor" in result.text

    def test_next_step_gives_phone_and_opening_hours(self, kb: KnowledgeBase) -> None:
        step = answer("hedensted", "application", "maintenance", kb=kb).next_step.text
        assert "79 91 82 50" in step
        assert "man.–tors. kl. 08.00–12.00 og 13.00–14.00, fre. kl. 08.00–12.00" in step

    def test_children_legal_basis(self, kb: KnowledgeBase) -> None:
        assert "§ 11" in answer("hedensted", "legal_basis", "children", kb=kb).text


class TestOthers:
    def test_roskilde_response_time_in_working_days(self, kb: KnowledgeBase) -> None:
        text = answer("roskilde", "response_time", "training", kb=kb).text
        assert "6 hverdage" in text and "14 hverdage" in text

    def test_roskilde_after_hospital_cost_is_not_stated(self, kb: KnowledgeBase) -> None:
        result = answer("roskilde", "cost", "efter sygehus", kb=kb)
        assert not result.stated and "oplyser ikke hvad træningen koster" in result.text

    def test_holbaek_transport_price(self, kb: KnowledgeBase) -> None:
        text = answer("holbaek", "transport", kb=kb).text
        assert "50 kroner pr. dag" in text

    def test_holbaek_exorlive(self, kb: KnowledgeBase) -> None:
        assert "ExorLive" in answer("holbaek", "content", kb=kb).text  # a form of the training (HOL-13)

    def test_roedovre_price_of_training_is_not_stated(self, kb: KnowledgeBase) -> None:
        result = answer("roedovre", "cost", "rehab", kb=kb)
        assert not result.stated
        assert "oplyser ikke hvad træningen koster" in result.text
        assert "36 37 70 00" in result.next_step.text

    def test_roedovre_session_counts(self, kb: KnowledgeBase) -> None:
        text = answer("roedovre", "frequency", "rehab", kb=kb).text
        assert "32 gange" in text and "8 gange" in text

    def test_roedovre_hours_not_stated(self, kb: KnowledgeBase) -> None:
        assert "Telefontid: ikke oplyst i kilden" in contact_answer("roedovre", kb=kb).text


class TestInput:
    @pytest.mark.parametrize("spelling", ["Køge", "koege", "Koge", "Køge Kommune", "KOEGE"])
    def test_any_spelling_of_the_municipality(self, kb: KnowledgeBase, spelling: str) -> None:
        assert answer(spelling, "cost", kb=kb).municipality_id == "koege"

    def test_topic_by_danish_label(self, kb: KnowledgeBase) -> None:
        assert answer("koege", "Pris", kb=kb).topic == "cost"

    def test_a_municipality_the_guide_does_not_cover(self, kb: KnowledgeBase) -> None:
        with pytest.raises(GuideInputError) as info:
            answer("Aarhus", "cost", kb=kb)
        assert "Aarhus Kommune er ikke med" in info.value.message
        assert "Kontakt Aarhus Kommune" in info.value.message

    def test_nonsense_municipality_and_topic(self, kb: KnowledgeBase) -> None:
        with pytest.raises(GuideInputError):
            answer("Blåbærby", "cost", kb=kb)
        with pytest.raises(GuideInputError):
            answer("koege", "vejret", kb=kb)


def test_compare_gives_one_row_per_municipality(kb: KnowledgeBase) -> None:
    rows = compare("transport", kb=kb)
    assert [r.municipality_id for r in rows] == sorted(MUNICIPALITIES)
    for row in rows:
        assert kb.municipalities[row.municipality_id].source_title in row.source


def test_compare_for_one_service_kind(kb: KnowledgeBase) -> None:
    rows = {r.municipality_id: r for r in compare("response_time", "rehab_after_hospital", kb=kb)}
    assert "7 kalenderdage" in rows["koege"].text
    assert "7 dage" in rows["hedensted"].text
    assert rows["holbaek"].parts == ()  # Holbæk describes only § 86 stk. 1 training
