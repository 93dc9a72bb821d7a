"""config/clusters.yaml (see docs/configuration.md), in four parts: `types` (what a parsed config
is), `validate` (text → config, every problem with file, line and key), `document` (round-trip
editing for the Settings page), `files` (YAML and atomic writes). Import from here.
"""
from fleet.config.document import ConfigDocument
from fleet.config.files import write_atomically
from fleet.config.types import (DEFAULT_CONFIG_PATH, ClusterConfig, ConfigConflict, ConfigError, ConfigProblem,
                                FleetConfig, Secret, Settings, TlsFiles, strip_userinfo)
from fleet.config.validate import SETTINGS_DEFAULTS, SETTINGS_SPEC, load_config, parse_cluster_entries, parse_config

__all__ = ["DEFAULT_CONFIG_PATH", "SETTINGS_DEFAULTS", "SETTINGS_SPEC", "ClusterConfig", "ConfigConflict",
           "ConfigDocument", "ConfigError", "ConfigProblem", "FleetConfig", "Secret", "Settings", "TlsFiles",
           "load_config", "parse_cluster_entries", "parse_config", "strip_userinfo", "write_atomically"]
