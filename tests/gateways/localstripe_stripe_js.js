// Appended by tests/gateways/localstripe_server.py to localstripe's stand-in for Stripe.js
// (served at /js.stripe.com/v3/). localstripe 1.15.10's fake has no `handleNextAction`, and its
// `createPaymentMethod` is an empty `async () => {}` that resolves to undefined; our checkout
// pages call both. These follow Stripe.js's documented answers ({paymentMethod} | {error},
// {paymentIntent} | {setupIntent} | {error}) and talk to localstripe's API; everything else is
// localstripe's own (its card element, its 3-D Secure modal, its endpoints).
(function () {
  const localstripeStripe = Stripe;

  async function post(path, body) {
    const response = await fetch(LOCALSTRIPE_BASE_API + path, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    const json = await response.json().catch(() => ({}));
    if (response.status !== 200 || json.error) {
      return {error: json.error || {message: 'HTTP ' + response.status}};
    }
    return json;
  }

  Stripe = (apiKey) => {
    const stripe = localstripeStripe(apiKey);

    // stripe.createPaymentMethod({type: 'card', card: cardElement, billing_details})
    stripe.createPaymentMethod = async ({type, card, billing_details}) => {
      if (!card || !card.value) {
        return {error: {type: 'validation_error', code: 'incomplete_number',
                        message: 'Your card number is incomplete.'}};
      }
      const method = await post('/v1/payment_methods', {
        key: apiKey, type: type, card: card.value.card,
        billing_details: billing_details || {},
      });
      return method.error ? method : {paymentMethod: method};
    };

    // stripe.handleNextAction({clientSecret}): the bank's 3-D Secure check, then the intent.
    stripe.handleNextAction = async ({clientSecret}) => {
      const id = clientSecret.split('_secret_')[0];
      const approved = await openModal('3D Secure\nDo you want to confirm or cancel?',
                                       'Complete authentication', 'Fail authentication');
      if (id.startsWith('seti_')) {  // as localstripe's own confirmCardSetup does
        const intent = await post(`/v1/setup_intents/${id}/${approved ? 'confirm' : 'cancel'}`,
                                  {key: apiKey, client_secret: clientSecret,
                                   use_stripe_sdk: true});
        return intent.error ? intent : {setupIntent: intent};
      }
      const intent = await post(`/v1/payment_intents/${id}/_authenticate?success=${approved}`,
                                {key: apiKey, client_secret: clientSecret});
      if (intent.error) { return intent; }
      if (intent.last_payment_error) {
        return {error: {...intent.last_payment_error, payment_intent: intent}};
      }
      return {paymentIntent: intent};
    };
    return stripe;
  };
})();
