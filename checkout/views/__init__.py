"""The shop's checkout pages: the cart (cart.py) and orders, their payment and status (orders.py)."""
