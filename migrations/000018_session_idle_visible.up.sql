set local role rampart_owner;

-- A user's session list shows when each session ends if left unused:
-- last_seen_at plus its idle timeout. The timeout is no secret to the
-- session's own user.
grant select (idle_timeout) on auth.sessions to authenticated;
