set local role rampart_owner;
drop function if exists auth.revoke_all_sessions(text);
drop function if exists auth.revoke_session(uuid, text);
drop function if exists auth.session_ok();
drop function if exists auth.rotate_refresh(bytea, bytea, interval);
drop function if exists auth.open_session(uuid, bytea, inet, text, interval,
                                          interval);
drop function if exists auth.rehash_password(text, text);
drop function if exists auth.login_candidate(text);
drop function if exists auth.register_user(text, text);
drop table if exists auth.refresh_tokens;
drop table if exists auth.sessions;
drop table if exists auth.users;
drop function if exists auth.session_id();
drop function if exists auth.aal();
drop function if exists auth.role();
drop function if exists auth.uid();
drop function if exists auth.jwt();
