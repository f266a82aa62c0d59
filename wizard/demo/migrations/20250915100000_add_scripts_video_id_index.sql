-- Opening a script looked it up by video with a sequential scan.
create index idx_scripts_video_id on public.scripts (video_id);
