"""GraphQL of the situational centre (graph/kpi.py, graph/roadmap.py, graph/activities.py):
dashboard, learner portfolio, activity registries, roadmap tracker."""
