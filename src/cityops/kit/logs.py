"""Logging for every cityops process: one format, and personal data masked in every line
(a description or an error quoting a resident's phone number must not land in a log file
that operators, log shippers and backups read)."""

from __future__ import annotations

import copy
import logging
from typing import Any

from cityops.kit.privacy import mask_personal

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskPersonalData(logging.Filter):
    """Masks phone and ID numbers in a record's message (with its arguments merged in)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str) -> None:
    """The root logger at `level`, writing to stderr through the masking filter."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """Uvicorn's logging configuration with every handler masking, and a root handler so
    that the application's own loggers write through it too."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"personal": {"()": MaskPersonalData}}
    config["formatters"]["plain"] = {"format": FORMAT}
    config["handlers"]["app"] = {"class": "logging.StreamHandler", "formatter": "plain",
                                 "stream": "ext://sys.stderr"}  # fmt: skip
    for handler in config["handlers"].values():
        handler["filters"] = ["personal"]
    config["root"] = {"handlers": ["app"], "level": level}
    return config
