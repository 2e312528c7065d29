"""What a config offers a new session: the `repo.settings` answer, built from a `Config`.

The server builds it for a repository (its config, trust applied); a client whose
server predates `repo.settings` builds it from the user's own file. One builder,
so both show the same agents, defaults and scripts the same way.
"""

from __future__ import annotations

import shutil

from tui.config.model import Config
from tui.protocol.messages import AgentChoice, Settings


def settings_for(config: Config, repo: str) -> Settings:
    """The new-session settings `config` gives in `repo` ("" outside one).

    `installed` is looked up on this process's PATH: the server's, where an agent
    runs (a client builds it only for a local server).
    """
    agents: list[AgentChoice] = [
        {"name": name, "command": profile.command[0],
         "installed": shutil.which(profile.command[0]) is not None}
        for name, profile in sorted(config.agents.items())
    ]  # fmt: skip
    return {
        "repo": repo,
        "default_agent": config.default_agent,
        "agents": agents,
        "branch_prefix": config.git.branch_prefix,
        "default_base": config.git.default_base,
        "scripts": dict(config.scripts),
    }
