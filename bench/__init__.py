"""`make bench`: healthspace measured as an operator would, on this machine's production stack.

Not part of the product: the settings here add the two ceiling views to the production
URLs; everything else is the production configuration unchanged.
"""
