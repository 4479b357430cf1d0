"""The registries: organizations, sites, equipment, staff, competencies, programs…"""
