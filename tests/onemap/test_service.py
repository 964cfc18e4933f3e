"""Conflicts between stored layers, and their report: patches to GeoPackage, summaries by
class pair and by street."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from openpyxl import load_workbook
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy.orm import Session
from tests.onemap.test_io import NOW, write

from cityops.errors import Invalid
from cityops.onemap import service
from cityops.onemap.io import LayerImport, import_layer
from cityops.onemap.models import ControlLine, LayerKind

# Inside the test district's 解放碑街道 (106.570–106.576°E, 29.560–29.562°N).
WETLAND = box(106.571, 29.5605, 106.573, 29.5615)
INDUSTRY = box(106.572, 29.5605, 106.574, 29.5615)  # overlaps the wetland's east half
OVERLAP = box(106.572, 29.5605, 106.573, 29.5615)


def stored(session: Session, tmp_path: Path) -> None:
    land = write(tmp_path / "land.gpkg", [WETLAND], {"DLBM": ["0501"]})
    urban = write(tmp_path / "urban.gpkg", [INDUSTRY], {"YDDM": ["M1"]})
    red = write(tmp_path / "red.gpkg", [WETLAND], {"NAME": ["湿地公园"]})
    import_layer(session, land, LayerImport("land", "土地利用规划", LayerKind.PLAN, None,
                                            "DLBM"), now=NOW)  # fmt: skip
    import_layer(session, urban, LayerImport("urban", "城市规划", LayerKind.PLAN, None, "YDDM",
                                             "gb50137_2011"), now=NOW)  # fmt: skip
    import_layer(session, red, LayerImport("red", "生态保护红线", LayerKind.CONTROL_LINE,
                                           ControlLine.ECOLOGICAL_RED_LINE), now=NOW)  # fmt: skip


@pytest.mark.usefixtures("district")  # its streets
def test_conflicts_between_stored_plans_and_a_control_line_are_found_and_reported(
    session: Session, tmp_path: Path
) -> None:
    stored(session, tmp_path)
    report = service.find(session, ["land", "urban", "red"])
    expected = abs(Geod(ellps="GRS80").geometry_area_perimeter(OVERLAP)[0])
    pairs = {(p.layer_a, p.layer_b) for p in report.patches()}
    # wetland vs industry in the plans, and industry inside the red line; the wetland inside
    # the red line is no conflict
    assert pairs == {("land", "urban"), ("urban", "red")}
    assert report.total_area_m2 == pytest.approx(2 * expected, rel=1e-6)

    summary = service.summarise(session, report)
    assert {(r["layer_a"], r["layer_b"]) for r in summary.by_pair} == pairs
    (street,) = summary.by_street
    assert (street["street"], street["patches"]) == ("解放碑街道", 2)

    count = service.write_patches(report, tmp_path / "conflicts.gpkg")
    assert count == 2
    meta, _, _, values = pyogrio.raw.read(tmp_path / "conflicts.gpkg")
    assert "rule" in list(meta["fields"]) and len(values[0]) == 2
    by_pair, by_street = service.write_summary(summary, tmp_path / "summary.xlsx")
    sheet = load_workbook(by_street).active
    assert sheet is not None and sheet["B2"].value == "解放碑街道"
    assert by_pair.exists()


def test_conflicts_need_two_stored_layers(session: Session) -> None:
    with pytest.raises(Invalid):
        service.find(session, ["land"])
    with pytest.raises(Invalid):
        service.find(session, ["land", "nowhere"])
