"""Settings: the global config file merged with the repository's `.ptui.toml`.

The package's parts, each owning one thing:
- `schema`: every key with its check, its documentation and its default (`Key`),
  and `schema_keys()`; `config.example.toml` is held to it by a test.
- `load`: reading TOML with line numbers, validating against the schema, merging
  the global and repository files, the trust rules (`TRUST_FREE_KEYS`,
  `PERSONAL_KEYS`) and `load_config`, `repo_digest`.
- `model`: what a loaded config is: `Config` and its section dataclasses, with the
  defaults ptui runs with, and `ConfigError`.
- `agents`: `AgentProfile` and the built-in profiles (`BUILTIN_AGENTS`).
- `offer`: what a config offers a new session (`settings_for`: agents, defaults,
  scripts), the answer of `repo.settings`.

Import from here (`from tui.config import load_config`); the submodules are how the
package is laid out, not an interface of their own.
"""

from tui.config.agents import BUILTIN_AGENTS as BUILTIN_AGENTS
from tui.config.agents import AgentProfile as AgentProfile
from tui.config.load import PERSONAL_KEYS as PERSONAL_KEYS
from tui.config.load import TRUST_FREE_KEYS as TRUST_FREE_KEYS
from tui.config.load import load_config as load_config
from tui.config.load import repo_digest as repo_digest
from tui.config.model import PORTS_PER_SESSION as PORTS_PER_SESSION
from tui.config.model import Config as Config
from tui.config.model import ConfigError as ConfigError
from tui.config.model import GitConfig as GitConfig
from tui.config.model import ServerConfig as ServerConfig
from tui.config.model import TerminalConfig as TerminalConfig
from tui.config.model import UiConfig as UiConfig
from tui.config.offer import settings_for as settings_for
from tui.config.schema import NOTIFY_CHANNELS as NOTIFY_CHANNELS
from tui.config.schema import PROMPT_MODES as PROMPT_MODES
from tui.config.schema import Check as Check
from tui.config.schema import schema_keys as schema_keys
