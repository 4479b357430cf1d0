import pytest

from graph.checksums import inn_is_valid, inn_with_checksum, ogrn_is_valid, ogrn_with_checksum
from graph.enums import OrganizationKind, ProgramType
from graph.registry import REGISTRIES
from graph.validation import validate_rows
from tests.factories import inn


def test_inn_checksums():
    assert inn_is_valid("7707083893")  # Сбербанк
    assert not inn_is_valid("7707083894")
    assert inn_is_valid("500100732259")  # a 12-digit ИНН of an individual
    assert not inn_is_valid("500100732250")
    assert not inn_is_valid("77070838")
    assert inn_is_valid(inn_with_checksum("770708389"))


def test_ogrn_checksums():
    assert ogrn_is_valid("1027700132195")  # Сбербанк
    assert not ogrn_is_valid("1027700132196")
    assert ogrn_is_valid(ogrn_with_checksum("102770013219"))
    assert ogrn_is_valid("304500116000157")  # ОГРНИП, 15 digits


def test_enum_accepts_code_label_and_synonym():
    assert OrganizationKind("ПОО") is OrganizationKind.COLLEGE
    assert OrganizationKind("колледж") is OrganizationKind.COLLEGE
    assert OrganizationKind("copp") is OrganizationKind.COPP
    assert ProgramType("Программы под заказ работодателей") is ProgramType.EMPLOYER_ORDERED
    assert OrganizationKind.COPP.label == "ЦОПП"


def _errors(registry, row):
    valid, errors = validate_rows(REGISTRIES[registry], [row])
    assert not valid
    return errors


def test_bad_inn_names_field_and_value():
    [err] = _errors("organizations", {"inn": "7707083894", "name": "X", "kind": "COPP",
                                      "region": "52"})
    assert (err.row, err.field, err.value) == (1, "inn", "7707083894")
    assert "контрольной суммой" in err.message


def test_unknown_program_type():
    errors = _errors("programs", {"code": "P1", "name": "Программа", "type": "КУРСЫ КРОЙКИ",
                                  "hours": 72, "organization": inn(1)})
    assert [(e.field, e.value) for e in errors] == [("type", "КУРСЫ КРОЙКИ")]
    assert "недопустимое значение" in errors[0].message


def test_negative_quantity():
    errors = _errors("equipment", {"organization": inn(1), "inventory_number": "INV-1",
                                   "type": "T", "site": "M1", "quantity": -3})
    assert [(e.field, e.value) for e in errors] == [("quantity", -3)]
    assert "не меньше 1" in errors[0].message


def test_missing_required_field_and_several_errors_in_one_row():
    errors = _errors("sites", {"organization": inn(1), "code": "M1", "workplaces": "много",
                               "latitude": 56.0})
    fields = sorted(e.field for e in errors)
    assert fields == ["municipality", "name", "workplaces"]


def test_coordinates_come_in_pairs():
    errors = _errors("sites", {"organization": inn(1), "code": "M1", "name": "М",
                               "municipality": "22701000", "workplaces": 1, "latitude": 56.0})
    assert "парой" in errors[0].message


def test_duplicate_key_in_batch_is_an_error():
    row = {"code": "T1", "name": "Тип"}
    valid, errors = validate_rows(REGISTRIES["equipment_types"], [row, row])
    assert len(valid) == 1
    assert errors[0].row == 2 and "строке 1" in errors[0].message


def test_russian_dates_parse():
    valid, errors = validate_rows(REGISTRIES["staff"], [{
        "organization": inn(1), "personnel_number": "7", "full_name": "Иванова А. П.",
        "role": "мастер п/о",
        "qualifications": [{"competency": "MF-01", "valid_until": "31.12.2027"}],
    }])
    assert not errors
    assert str(valid[0][1].qualifications[0].valid_until) == "2027-12-31"
    _, errors = validate_rows(REGISTRIES["staff"], [{
        "organization": inn(1), "personnel_number": "7", "full_name": "И", "role": "TEACHER",
        "qualifications": [{"competency": "MF-01", "valid_until": "31.02.2027"}],
    }])
    assert errors and errors[0].field == "qualifications.0.valid_until"


@pytest.mark.parametrize("kind", ["NETWORK"])
def test_network_agreement_needs_program_and_learners(kind):
    errors = _errors("agreements", {
        "base_organization": inn(1), "number": "1", "kind": kind, "subject": "Сетевая форма",
        "signed_on": "2025-01-10", "valid_from": "2025-01-10",
        "parties": [{"organization": inn(1), "role": "BASE"},
                    {"organization": inn(2), "role": "PARTICIPANT"}],
    })
    assert "ст. 15" in errors[0].message
