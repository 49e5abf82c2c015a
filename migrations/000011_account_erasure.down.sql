set local role rampart_owner;
drop function if exists auth.erase_me();
drop function if exists auth.export_me();
