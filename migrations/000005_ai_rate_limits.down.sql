set local role rampart_owner;
drop table if exists app.ai_rate_limits_config;
