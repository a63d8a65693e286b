# Not registered in Django's admin: these rows concern students and are shown through Attend's
# own pages, which check scope and log every view.
