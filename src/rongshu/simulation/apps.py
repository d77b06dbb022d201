from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "rongshu.simulation"
    label = "simulation"
    verbose_name = "Simulation"
