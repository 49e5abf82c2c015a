set local role rampart_owner;

revoke select (idle_timeout) on auth.sessions from authenticated;
