"""Attend: attendance intelligence, casework and field safety for school attendance officers."""
