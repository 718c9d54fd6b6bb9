"""``BashSensor``: wait until a bash command exits 0."""
from airflow.sdk.bases.sensor import BaseSensorOperator
from leoflow_rt.unsupported import module_getattr


class BashSensor(BaseSensorOperator):
    template_fields = ("bash_command", "env")
    _lf_args = BaseSensorOperator._lf_args + ("bash_command", "env", "output_encoding",
                                              "retry_exit_code")

    def __init__(self, *, bash_command, env=None, output_encoding="utf-8", retry_exit_code=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code

    def poke(self, context):
        """Run the command in a temporary folder; exit 0 means done."""
        import os
        import subprocess
        import tempfile

        from airflow.sdk.exceptions import AirflowFailException

        bash = "bash"
        with tempfile.TemporaryDirectory(prefix="airflowtmp") as tmp_dir:
            with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix=self.task_id) as f:
                f.write(bytes(self.bash_command, "utf_8"))
                f.flush()
                self.log.info("Tmp dir root location: %s", tmp_dir)
                self.log.info("Running command: %s", self.bash_command)
                env = self.env if self.env is not None else dict(os.environ)
                proc = subprocess.Popen([bash, f.name], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, close_fds=True, cwd=tmp_dir,
                                        env=env)
                self.log.info("Output:")
                for raw in iter(proc.stdout.readline, b""):
                    print(raw.decode(self.output_encoding, "backslashreplace").rstrip(),
                          flush=True)
                proc.wait()
                self.log.info("Command exited with return code %s", proc.returncode)
                if proc.returncode == 0:
                    return True
                if self.retry_exit_code is not None:
                    if proc.returncode == self.retry_exit_code:
                        self.log.info("Return code matches retry code, will retry later")
                        return False
                    raise AirflowFailException("Command exited with return code %s"
                                               % proc.returncode)
                self.log.info("Non-zero return code and no retry code set, will retry later")
                return False


__getattr__ = module_getattr(__name__)
