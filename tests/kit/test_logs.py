"""Logs never carry a resident's phone or ID number, whoever writes the line."""

from __future__ import annotations

import logging
import logging.config

import pytest

from cityops.kit.logs import MaskPersonalData, uvicorn_log_config


def test_a_phone_number_in_a_message_or_its_arguments_is_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("cityops.test")
    caplog.handler.addFilter(MaskPersonalData())
    with caplog.at_level(logging.INFO, logger="cityops.test"):
        log.info("report from 13800138000 about %s", "身份证 11010519491231002X")
        log.info("nothing personal in %d lines", 3)
    first, second = (r.getMessage() for r in caplog.records)
    assert first == "report from 138******00 about 身份证 110*************2X"
    assert second == "nothing personal in 3 lines"


def test_the_server_s_log_configuration_masks_in_every_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = uvicorn_log_config("INFO")
    assert all(h["filters"] == ["personal"] for h in config["handlers"].values())
    logging.config.dictConfig(config)
    try:
        logging.getLogger("cityops.citizens").warning("call back 021-62345678 today")
        logging.getLogger("uvicorn.error").error("bad request from 13912345678")
    finally:
        reset = {"version": 1, "disable_existing_loggers": False, "root": {"handlers": []}}
        logging.config.dictConfig(reset)
    err = capsys.readouterr().err
    assert "021*******78" in err and "139******78" in err
    assert "62345678" not in err and "13912345678" not in err
