"""The fleet's ports are taken out of the kernel's ephemeral range, keeping other
reservations, and a host that does not allow it is told, not broken."""

from pathlib import Path

from fleet.runner.reserved_ports import parse, render, reserve


def test_ranges_read_and_written_in_the_sysctls_format() -> None:
    assert parse("8080,50000-50002\n") == {8080, 50000, 50001, 50002}
    assert parse("\n") == set()
    assert render({50002, 8080, 50000, 50001, 9411}) == "8080,9411,50000-50002"


def test_reserving_adds_the_fleets_ports_to_what_others_reserved(tmp_path: Path) -> None:
    sysctl = tmp_path / "ip_local_reserved_ports"
    sysctl.write_text("40000-40001\n")
    assert reserve([55432, 50003, 40001], sysctl=sysctl)
    assert parse(sysctl.read_text()) == {40000, 40001, 50003, 55432}


def test_a_host_that_refuses_is_reported_not_fatal(tmp_path: Path) -> None:
    assert reserve([55432], sysctl=tmp_path / "missing" / "ip_local_reserved_ports") is False
