"""``BashOperator``: run a (Jinja-templated) bash command."""
from airflow.sdk.bases.operator import BaseOperator
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
        if skip_on_exit_code is None:
            self.skip_on_exit_code = []
        elif isinstance(skip_on_exit_code, (list, tuple, set, frozenset)):
            self.skip_on_exit_code = list(skip_on_exit_code)
        else:
            self.skip_on_exit_code = [skip_on_exit_code]
        self.cwd = cwd
        self.append_env = append_env
        self.output_processor = output_processor

    def execute(self, context):
        """Run ``bash_command`` (already rendered) with bash; return the last output line."""
        import os
        import subprocess

        from airflow.sdk.exceptions import AirflowException, AirflowSkipException

        env = self.env
        if env is None:
            env = dict(os.environ)
        elif self.append_env:
            env = dict(os.environ, **env)
        proc = subprocess.Popen(["bash", "-c", self.bash_command], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=self.cwd, env=env)
        last = ""
        for raw in proc.stdout:
            line = raw.decode(self.output_encoding, "backslashreplace").rstrip("\n")
            print(line, flush=True)
            last = line
        rc = proc.wait()
        if rc in self.skip_on_exit_code:
            raise AirflowSkipException("Bash command returned exit code %d. Skipping." % rc)
        if rc != 0:
            raise AirflowException("Bash command failed. The command returned a non-zero exit "
                                   "code %d." % rc)
        return self.output_processor(last)


__getattr__ = module_getattr(__name__)
