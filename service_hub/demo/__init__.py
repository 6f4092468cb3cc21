"""Demo data: a realistic operator with centres, departments, agents, customers and tickets."""
