-- consolidation-wizard stand-in bodies for pg_cron's C functions that migrations call: jobs are
-- recorded in cron.job as pg_cron records them, and never run. Used only in scratch databases.

CREATE FUNCTION cron.schedule(schedule text, command text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE id bigint;
BEGIN
  INSERT INTO cron.job (schedule, command, nodename, nodeport, database, username)
  VALUES (schedule, command, 'localhost', 5432, current_database(), current_user) RETURNING jobid INTO id;
  RETURN id;
END $$;

CREATE FUNCTION cron.schedule(job_name text, schedule text, command text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE id bigint;
BEGIN
  INSERT INTO cron.job (jobname, schedule, command, nodename, nodeport, database, username)
  VALUES (job_name, schedule, command, 'localhost', 5432, current_database(), current_user)
  ON CONFLICT (jobname, username) DO UPDATE SET schedule = excluded.schedule, command = excluded.command
  RETURNING jobid INTO id;
  RETURN id;
END $$;

CREATE FUNCTION cron.schedule_in_database(job_name text, schedule text, command text, database text,
    username text DEFAULT NULL::text, active boolean DEFAULT true) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE id bigint;
BEGIN
  INSERT INTO cron.job (jobname, schedule, command, nodename, nodeport, database, username, active)
  VALUES (job_name, schedule, command, 'localhost', 5432, database, coalesce(username, current_user), active)
  ON CONFLICT (jobname, username) DO UPDATE
    SET schedule = excluded.schedule, command = excluded.command, database = excluded.database, active = excluded.active
  RETURNING jobid INTO id;
  RETURN id;
END $$;

CREATE FUNCTION cron.unschedule(job_id bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM cron.job WHERE jobid = job_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job %', job_id; END IF;
  RETURN true;
END $$;

CREATE FUNCTION cron.unschedule(job_name text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM cron.job WHERE jobname = job_name AND username = current_user;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job ''%''', job_name; END IF;
  RETURN true;
END $$;

CREATE FUNCTION cron.alter_job(job_id bigint, schedule text DEFAULT NULL, command text DEFAULT NULL,
    database text DEFAULT NULL, username text DEFAULT NULL, active boolean DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
  UPDATE cron.job AS j
     SET schedule = coalesce(alter_job.schedule, j.schedule),
         command = coalesce(alter_job.command, j.command),
         database = coalesce(alter_job.database, j.database),
         username = coalesce(alter_job.username, j.username),
         active = coalesce(alter_job.active, j.active)
   WHERE j.jobid = alter_job.job_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'could not find valid entry for job %', job_id; END IF;
END $$;
