"""``BashOperator``: run a (Jinja-templated) bash command."""
from airflow.sdk.bases.operator import BaseOperator, as_list
from leoflow_rt.unsupported import module_getattr


class BashOperator(BaseOperator):
    template_fields = ("bash_command", "env", "cwd")
    template_fields_renderers = {"bash_command": "bash", "env": "json"}
    template_ext = (".sh", ".bash")
    ui_color = "#f0ede4"
    _lf_kind = "bash"
    _lf_args = ("bash_command", "env", "append_env", "output_encoding", "skip_on_exit_code",
                "cwd")

    def __init__(self, *, bash_command, env=None, append_env=False, output_encoding="utf-8",
                 skip_on_exit_code=99, cwd=None, output_processor=lambda result: result,
                 **kwargs):
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.skip_on_exit_code = as_list(skip_on_exit_code)
        self.cwd = cwd
        self.append_env = append_env
        self.output_processor = output_processor

    def get_env(self, context):
        """The command's environment: the task's (or ``env``), plus ``AIRFLOW_CTX_*``."""
        import os

        system_env = dict(os.environ)
        env = self.env
        if env is None:
            env = system_env
        elif self.append_env:
            system_env.update(env)
            env = system_env
        else:
            env = dict(env)
        try:
            from leoflow_rt.task import context_to_airflow_vars

            env.update(context_to_airflow_vars(context))
        except Exception:  # noqa: BLE001 - outside the Leoflow task runtime
            pass
        return {str(k): str(v) for k, v in env.items()}

    def execute(self, context):
        """Run ``bash_command`` (already rendered) with ``bash -c``; return the last line.

        Unlike Airflow the command stays in the task's process group (no ``setsid``), so
        killing the task's group also kills the command; ``cwd`` defaults to the task's."""
        import os
        import shutil
        import subprocess
        import sys

        from airflow.sdk.exceptions import AirflowException, AirflowSkipException

        bash_path = shutil.which("bash") or "bash"
        if self.cwd is not None:
            if not os.path.exists(self.cwd):
                raise AirflowException("Can not find the cwd: %s" % self.cwd)
            if not os.path.isdir(self.cwd):
                raise AirflowException("The cwd %s must be a directory" % self.cwd)
        env = self.get_env(context)
        self.log.info("Running command: %s", [bash_path, "-c", self.bash_command])
        proc = subprocess.Popen([bash_path, "-c", self.bash_command], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.cwd,
                                env=env, close_fds=True)
        last = ""
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode(self.output_encoding, "backslashreplace").rstrip()
            sys.stdout.write(line + "\n")
            last = line
        proc.stdout.close()
        rc = proc.wait()
        self.log.info("Command exited with return code %s", rc)
        if rc in self.skip_on_exit_code:
            raise AirflowSkipException("Bash command returned exit code %d. Skipping." % rc)
        if rc != 0:
            raise AirflowException("Bash command failed. The command returned a non-zero exit "
                                   "code %d." % rc)
        return self.output_processor(last)


__getattr__ = module_getattr(__name__)
