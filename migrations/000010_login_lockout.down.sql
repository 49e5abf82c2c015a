set local role rampart_owner;
drop function if exists auth.recent_aal2();
drop function if exists auth.clear_login_failures(text, inet);
drop function if exists auth.note_login_failure(text, inet);
drop function if exists auth.login_failures_recent(text, inet);
drop table if exists auth.login_failures;
