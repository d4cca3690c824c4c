"""`newsner report`: one self-contained HTML page about a workspace, with plots (see `page`)."""

from newsner.report.data import export_folders
from newsner.report.page import build_report, write_report

__all__ = ["build_report", "export_folders", "write_report"]
