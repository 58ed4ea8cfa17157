\dt
\d ping_sensor
\l
\dn
select device_name, value, ok from ping_sensor order by device_name;
select "value", timestamp from ping_sensor where device_name = 'beta';
SET TIME ZONE 'America/New_York';
select timestamp from ping_sensor where value > 2;
select count(*), avg(value) from ping_sensor;
select version();
\d nosuch
insert into ping_sensor values (1);
select nosuch from ping_sensor;
