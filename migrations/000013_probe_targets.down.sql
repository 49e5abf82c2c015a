set local role rampart_owner;
drop function if exists security.probe_target_elsewhere(uuid, text, uuid);
