// Stripe Payment Element: confirms the PaymentIntent in the browser; the webhook books the order.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey, { locale: "fr-CA" });
  var errorBox = document.getElementById("payment-error");
  var elements = null;
  if (!form.dataset.authenticate) {
    elements = stripe.elements({ clientSecret: form.dataset.clientSecret, locale: "fr-CA" });
    elements.create("payment").mount("#payment-element");
  }
  function pay() {
    if (elements) {
      return stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } });
    }
    // A saved card the bank wants confirmed (3-D Secure): Stripe shows its own window.
    return stripe.handleNextAction({ clientSecret: form.dataset.clientSecret }).then(function (result) {
      if (!result.error) { window.location.assign(form.dataset.returnUrl); }
      return result;
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    document.getElementById("pay").disabled = true;
    pay().then(function (result) {
        if (result.error) {
          errorBox.textContent = result.error.type === "card_error" ? "Votre carte a été refusée." : result.error.message;
          errorBox.hidden = false;
          document.getElementById("pay").disabled = false;
        }
      });
  });
})();
