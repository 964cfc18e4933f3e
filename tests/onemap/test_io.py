"""Layers into the one map: every format and CRS a planning bureau hands over, repaired
geometries reported, classes mapped onto the 2023 classification, each import a version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Polygon, box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.errors import ImportFailed
from cityops.onemap.io import LayerImport, import_layer
from cityops.onemap.models import ControlLine, Layer, LayerFeature, LayerKind, LayerVersion

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# Two parcels side by side near Jiefangbei, Chongqing, 0.002° (≈ 190 m) across.
WEST = box(106.570, 29.550, 106.572, 29.552)
EAST = box(106.572, 29.550, 106.574, 29.552)
GRS80 = Geod(ellps="GRS80")


def area(geometry: Polygon) -> float:
    return abs(GRS80.geometry_area_perimeter(geometry)[0])


def write(
    path: Path,
    geometries: list[Polygon],
    fields: dict[str, list[object]],
    *,
    crs: str = "EPSG:4490",
    driver: str | None = None,
    **options: object,
) -> Path:
    pyogrio.raw.write(
        path, np.array([shapely.to_wkb(g) for g in geometries], dtype=object),
        [np.array(v, dtype=object) for v in fields.values()], list(fields),
        geometry_type="Polygon", crs=crs, driver=driver, **options,
    )  # fmt: skip
    return path


def plan(name: str = "urban-plan", **extra: object) -> LayerImport:
    return LayerImport(name=name, title="城市总体规划", kind=LayerKind.PLAN,
                       class_field="DLBM", **extra)  # type: ignore[arg-type]  # fmt: skip


def test_a_geopackage_layer_is_stored_in_lon_lat_with_its_areas_and_metadata(
    session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path / "plan.gpkg", [WEST, EAST],
                 {"DLBM": ["0101", "1001"], "MC": ["水田", "工业用地"]})  # fmt: skip
    done = import_layer(session, path, plan(), now=NOW, by="test")
    assert (done.version, done.features, done.repaired) == (1, 2, [])
    assert done.area_m2 == pytest.approx(area(WEST) + area(EAST), rel=1e-9)
    version = session.scalar(select(LayerVersion))
    assert version is not None
    assert (version.source_format, version.feature_count) == ("GPKG", 2)
    assert [f["name"] for f in version.fields] == ["DLBM", "MC"]
    assert (version.min_lon, version.max_lon) == pytest.approx((106.570, 106.574))
    features = session.scalars(select(LayerFeature).order_by(LayerFeature.fid)).all()
    assert [f.class_code for f in features] == ["0101", "1001"]
    assert features[0].properties == {"DLBM": "0101", "MC": "水田"}
    assert shapely.from_wkb(features[1].geometry).equals(EAST)


def test_a_gauss_krueger_shapefile_with_its_encoding_comes_out_where_it_belongs(
    session: Session, tmp_path: Path
) -> None:
    # CGCS2000 3-degree Gauss-Krüger, central meridian 105°E (northing first in the EPSG
    # definition: the transformer must be built always_xy)
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4544", always_xy=True)
    projected = shapely.transform(WEST, lambda xy: np.column_stack(to_gk.transform(*xy.T)))
    path = write(tmp_path / "plan.shp", [projected], {"DLBM": ["0101"], "MC": ["水田"]},
                 crs="EPSG:4544", encoding="GBK")  # fmt: skip
    assert (tmp_path / "plan.cpg").read_text().upper().startswith(("GBK", "CP936", "936"))
    import_layer(session, path, plan(), now=NOW)
    feature = session.scalar(select(LayerFeature))
    assert feature is not None
    assert feature.properties["MC"] == "水田"
    assert shapely.from_wkb(feature.geometry).symmetric_difference(WEST).area < 1e-12
    assert feature.area_m2 == pytest.approx(area(WEST), rel=1e-6)


def test_geojson_flatgeobuf_and_csv_with_wkt_are_read(session: Session, tmp_path: Path) -> None:
    write(tmp_path / "a.geojson", [WEST], {"DLBM": ["0301"]}, driver="GeoJSON")
    write(tmp_path / "b.fgb", [EAST], {"DLBM": ["0501"]}, driver="FlatGeobuf")
    csv = tmp_path / "c.csv"
    csv.write_text(f'DLBM,WKT\n0701,"{WEST.wkt}"\n', encoding="utf-8")
    import_layer(session, tmp_path / "a.geojson", plan("a"), now=NOW)
    import_layer(session, tmp_path / "b.fgb", plan("b"), now=NOW)
    import_layer(session, csv, plan("c", crs="EPSG:4490"), now=NOW)
    codes = session.scalars(select(LayerFeature.class_code).order_by(LayerFeature.id)).all()
    assert codes == ["0301", "0501", "0701"]


def test_a_csv_without_a_crs_is_refused_until_one_is_given(
    session: Session, tmp_path: Path
) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text(f'DLBM,WKT\n0701,"{WEST.wkt}"\n', encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_layer(session, csv, plan("c"), now=NOW)
    assert [p.field for p in failed.value.problems] == ["crs"]


def test_an_invalid_ring_is_repaired_and_reported_not_dropped(
    session: Session, tmp_path: Path
) -> None:
    bow_tie = Polygon([(106.570, 29.550), (106.572, 29.552), (106.572, 29.550),
                       (106.570, 29.552), (106.570, 29.550)])  # fmt: skip
    assert not bow_tie.is_valid
    path = write(tmp_path / "plan.gpkg", [WEST, bow_tie], {"DLBM": ["0101", "0102"]})
    done = import_layer(session, path, plan(), now=NOW)
    assert done.features == 2 and len(done.repaired) == 1
    version = session.scalar(select(LayerVersion))
    assert version is not None and version.repaired == done.repaired
    fixed = session.scalar(select(LayerFeature).where(LayerFeature.class_code == "0102"))
    assert fixed is not None
    geometry = shapely.from_wkb(fixed.geometry)
    # both triangles of the bow tie kept: 2 × ½ × 0.002° × 0.001°
    assert geometry.is_valid and geometry.geom_type == "MultiPolygon"
    assert len(geometry.geoms) == 2
    assert geometry.area == pytest.approx(2 * 0.5 * 0.002 * 0.001, rel=1e-9)


def test_older_schemes_are_mapped_onto_the_2023_classes(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path / "urban.gpkg", [WEST, EAST], {"DLBM": ["R2", "M1"]})
    import_layer(session, path, plan(class_scheme="gb50137_2011"), now=NOW)
    features = session.scalars(select(LayerFeature).order_by(LayerFeature.fid)).all()
    assert [f.source_class for f in features] == ["R2", "M1"]
    residential, industrial = (f.class_code or "" for f in features)
    assert residential.startswith("07") and industrial.startswith("10")


def test_a_class_that_cannot_be_mapped_refuses_the_whole_file(
    session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path / "plan.gpkg", [WEST, EAST], {"DLBM": ["0101", "9999"]})
    with pytest.raises(ImportFailed) as failed:
        import_layer(session, path, plan(), now=NOW)
    (problem,) = failed.value.problems
    assert (problem.row, problem.field) == (2, "DLBM") and "9999" in problem.message
    assert session.scalar(select(func.count()).select_from(LayerFeature)) == 0


def test_each_import_is_a_new_version_and_the_old_one_is_kept(
    session: Session, tmp_path: Path
) -> None:
    first = write(tmp_path / "v1.gpkg", [WEST], {"DLBM": ["0101"]})
    second = write(tmp_path / "v2.gpkg", [WEST, EAST], {"DLBM": ["0701", "0701"]})
    import_layer(session, first, plan(note="2017"), now=NOW)
    done = import_layer(session, second, plan(note="2024 revision"), now=NOW)
    assert done.version == 2
    layer = session.scalar(select(Layer))
    assert layer is not None and layer.current_version == 2
    counts = dict(session.execute(
        select(LayerVersion.version, LayerVersion.feature_count)).all())  # fmt: skip
    assert counts == {1: 1, 2: 2}


def test_a_control_line_layer_names_its_line(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path / "red.gpkg", [WEST], {"NAME": ["缙云山"]})
    spec = LayerImport(name="red-line", title="生态保护红线", kind=LayerKind.CONTROL_LINE)
    with pytest.raises(ImportFailed):
        import_layer(session, path, spec, now=NOW)
    spec = LayerImport(name="red-line", title="生态保护红线", kind=LayerKind.CONTROL_LINE,
                       line=ControlLine.ECOLOGICAL_RED_LINE)  # fmt: skip
    assert import_layer(session, path, spec, now=NOW).features == 1


def test_a_survey_code_that_lost_its_leading_zero_in_a_spreadsheet_is_still_mapped(
    session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path / "survey.gpkg", [WEST], {"DLBM": ["101"]})
    import_layer(session, path, plan(class_scheme="gbt21010_2017"), now=NOW)
    assert session.scalar(select(LayerFeature.class_code)) == "0101"
