-- Review comments moved to the video platform; nobody used the table.
drop function public.get_script_comments(uuid);

drop table public.script_comments;
