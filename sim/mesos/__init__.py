"""An emulated Apache Mesos master (legacy JSON endpoints), driven by scenario state."""
from sim.mesos.agents import Agent
from sim.mesos.auth import Auth
from sim.mesos.master import MesosMaster, MesosState, MesosTask

__all__ = ["Agent", "Auth", "MesosMaster", "MesosState", "MesosTask"]
