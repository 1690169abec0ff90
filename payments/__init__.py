"""Provider-neutral payments: a Payment per provider used on an order, providers
as classes (Stripe Checkout first), the Stripe webhook. Payments never import
checkout: they announce money with the signals in `payments.signals`."""
