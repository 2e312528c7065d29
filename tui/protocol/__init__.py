"""The wire between ptui's clients and its session host (docs/protocol.md).

- `framing`: frames, limits, error codes, the published events, style runs;
- `methods`: every method's name, once (`Method`);
- `session_info`: one session as the server describes it (`SessionInfo`);
- `states`: a session's `LifecycleState` and its agent's `Activity`, two fields;
- `messages`: every method's request and answer, typed (`SessionCreate`, ...);
- `shapes`: the one checker every received message goes through.

Headless and below both sides: the server and every client import it, it imports
neither (nor Textual).
"""

from __future__ import annotations

from tui.protocol.framing import BAD_FRAME as BAD_FRAME
from tui.protocol.framing import BAD_REQUEST as BAD_REQUEST
from tui.protocol.framing import DENIED as DENIED
from tui.protocol.framing import FAILED as FAILED
from tui.protocol.framing import FATAL_CODES as FATAL_CODES
from tui.protocol.framing import HEADER as HEADER
from tui.protocol.framing import INTERNAL as INTERNAL
from tui.protocol.framing import MAX_DEPTH as MAX_DEPTH
from tui.protocol.framing import MAX_FRAME as MAX_FRAME
from tui.protocol.framing import MAX_ITEMS as MAX_ITEMS
from tui.protocol.framing import MAX_PARTIAL_TOTAL as MAX_PARTIAL_TOTAL
from tui.protocol.framing import NOT_FOUND as NOT_FOUND
from tui.protocol.framing import PUBLISHED_EVENTS as PUBLISHED_EVENTS
from tui.protocol.framing import STALLED as STALLED
from tui.protocol.framing import TOO_LARGE as TOO_LARGE
from tui.protocol.framing import UNKNOWN_METHOD as UNKNOWN_METHOD
from tui.protocol.framing import VERSION as VERSION
from tui.protocol.framing import VERSION_MISMATCH as VERSION_MISMATCH
from tui.protocol.framing import Event as Event
from tui.protocol.framing import FrameDecoder as FrameDecoder
from tui.protocol.framing import PartialBudget as PartialBudget
from tui.protocol.framing import ProtocolError as ProtocolError
from tui.protocol.framing import RemoteError as RemoteError
from tui.protocol.framing import check_structure as check_structure
from tui.protocol.framing import decode_runs as decode_runs
from tui.protocol.framing import encode as encode
from tui.protocol.framing import encode_runs as encode_runs
from tui.protocol.framing import error_frame as error_frame
from tui.protocol.framing import request_id_ok as request_id_ok
from tui.protocol.methods import Method as Method
from tui.protocol.session_info import SessionInfo as SessionInfo
from tui.protocol.session_info import decode_session_info as decode_session_info
from tui.protocol.shapes import ShapeError as ShapeError
from tui.protocol.states import LIVE as LIVE
from tui.protocol.states import Activity as Activity
from tui.protocol.states import LifecycleState as LifecycleState
