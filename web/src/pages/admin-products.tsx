/** Admin: add products to the catalog and restock them; stock shown live. */
import { CatalogDocument, CreateProductDocument, RestockProductDocument } from '@magasin/events/operations';
import { type FormEvent, useState } from 'react';
import { ErrorMessage } from '../components/error-message.tsx';
import { useMutation, useQuery } from '../gateway/hooks.ts';
import { formatCents, parseCents } from '../money.ts';
import { CATALOG_POLL_MS } from './catalog.tsx';

export const AdminProductsPage = () => {
  const catalog = useQuery(CatalogDocument, { pollMs: CATALOG_POLL_MS });
  return (
    <>
      <h1>Products</h1>
      <CreateProductForm onCreated={catalog.refetch} />
      <ErrorMessage error={catalog.error} prefix="The catalog could not be refreshed." />
      <table className="lines" data-testid="admin-products">
        <thead>
          <tr>
            <th>SKU</th>
            <th>Name</th>
            <th>Price</th>
            <th>Available</th>
            <th>Reserved</th>
            <th>Sold</th>
            <th>Restock</th>
          </tr>
        </thead>
        <tbody>
          {catalog.data?.products.map((product) => (
            <tr key={product.id} data-testid={`admin-product-${product.sku}`}>
              <td>
                <code>{product.sku}</code>
              </td>
              <td>{product.name}</td>
              <td>{formatCents(product.priceCents)}</td>
              <td data-testid="available">{product.stock.available}</td>
              <td>{product.stock.reserved}</td>
              <td>{product.stock.sold}</td>
              <td>
                <RestockForm productId={product.id} onRestocked={catalog.refetch} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
};

const CreateProductForm = ({ onCreated }: { onCreated: () => void }) => {
  const create = useMutation(CreateProductDocument);
  const [sku, setSku] = useState('');
  const [name, setName] = useState('');
  const [price, setPrice] = useState('');
  const [stock, setStock] = useState('10');
  const [created, setCreated] = useState<string | undefined>();
  const priceCents = parseCents(price);
  const initialStock = Number(stock);
  const valid =
    sku.trim() &&
    name.trim() &&
    priceCents !== undefined &&
    Number.isInteger(initialStock) &&
    initialStock >= 0;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!valid || priceCents === undefined) return;
    setCreated(undefined);
    create
      .run({ input: { sku: sku.trim(), name: name.trim(), priceCents, initialStock } })
      .then(({ createProduct }) => {
        setCreated(
          `${createProduct.name} (${createProduct.sku}) added with ${createProduct.stock.available} in stock.`,
        );
        setSku('');
        setName('');
        setPrice('');
        onCreated();
      })
      .catch(() => undefined);
  };

  return (
    <form className="panel product-form" onSubmit={submit} data-testid="create-product">
      <h2>Add a product</h2>
      <label>
        SKU{' '}
        <input
          value={sku}
          onChange={(event) => setSku(event.target.value)}
          placeholder="KET-002"
          name="sku"
          required
        />
      </label>
      <label>
        Name <input value={name} onChange={(event) => setName(event.target.value)} name="name" required />
      </label>
      <label>
        Price (€){' '}
        <input
          value={price}
          onChange={(event) => setPrice(event.target.value)}
          placeholder="34.90"
          name="price"
          inputMode="decimal"
          required
        />
      </label>
      <label>
        Initial stock{' '}
        <input
          type="number"
          min={0}
          value={stock}
          onChange={(event) => setStock(event.target.value)}
          name="stock"
          required
        />
      </label>
      <button type="submit" disabled={!valid || create.running}>
        {create.running ? 'Adding…' : 'Add product'}
      </button>
      {price && priceCents === undefined && (
        <p className="notice warning">The price must be an amount such as 34.90.</p>
      )}
      <ErrorMessage error={create.error} prefix="The product was not added." />
      {created && (
        <p className="notice ok" role="status" data-testid="created">
          {created}
        </p>
      )}
    </form>
  );
};

const RestockForm = ({ productId, onRestocked }: { productId: string; onRestocked: () => void }) => {
  const restock = useMutation(RestockProductDocument);
  const [quantity, setQuantity] = useState('10');
  const [done, setDone] = useState<string | undefined>();
  const units = Number(quantity);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(undefined);
    restock.run({ productId, quantity: units }).then(
      ({ restockProduct }) => {
        // The mutation answers with the inventory's own state; the table catches up on its next refresh.
        setDone(`+${units}: ${restockProduct.stock.available} available`);
        onRestocked();
      },
      () => undefined,
    );
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <input
        type="number"
        min={1}
        value={quantity}
        onChange={(event) => setQuantity(event.target.value)}
        aria-label="Units to add"
        data-testid="restock-quantity"
      />
      <button
        type="submit"
        disabled={restock.running || !Number.isInteger(units) || units < 1}
        data-testid="restock"
      >
        Restock
      </button>
      {done && (
        <span className="hint" role="status" data-testid="restocked">
          {done}
        </span>
      )}
      <ErrorMessage error={restock.error} />
    </form>
  );
};
