"""Public services of the ЦОПП (template items 44, 50, 54): applications to enrol and to join
the network (`applications`), the program constructor and expert review (`review`), surveys
(`surveys`). Their workflow nodes (Application, ProgramReview, ReviewRound, MaterialReview,
Survey, SurveyResponse) are not registries: they change only through their state machines here,
never through the generic create/update mutations. What they create in the registries
(learners, enrollments, organizations, agreements, program and learning-material status,
demand signals) goes through `graph.ingest` with the handler's rights and audit, in the same
transaction as the transition.
"""
